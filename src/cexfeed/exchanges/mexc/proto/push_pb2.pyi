from cexfeed.exchanges.mexc.proto import public_pb2 as _public_pb2
from cexfeed.exchanges.mexc.proto import private_pb2 as _private_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PushDataV3ApiWrapper(_message.Message):
    __slots__ = ("channel", "symbol", "symbolId", "createTime", "sendTime", "publicDeals", "publicIncreaseDepths", "publicLimitDepths", "privateOrders", "publicBookTicker", "privateDeals", "privateAccount", "publicSpotKline", "publicMiniTicker", "publicMiniTickers", "publicBookTickerBatch", "publicIncreaseDepthsBatch", "publicAggreDepths", "publicAggreDeals", "publicAggreBookTicker")
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    SYMBOLID_FIELD_NUMBER: _ClassVar[int]
    CREATETIME_FIELD_NUMBER: _ClassVar[int]
    SENDTIME_FIELD_NUMBER: _ClassVar[int]
    PUBLICDEALS_FIELD_NUMBER: _ClassVar[int]
    PUBLICINCREASEDEPTHS_FIELD_NUMBER: _ClassVar[int]
    PUBLICLIMITDEPTHS_FIELD_NUMBER: _ClassVar[int]
    PRIVATEORDERS_FIELD_NUMBER: _ClassVar[int]
    PUBLICBOOKTICKER_FIELD_NUMBER: _ClassVar[int]
    PRIVATEDEALS_FIELD_NUMBER: _ClassVar[int]
    PRIVATEACCOUNT_FIELD_NUMBER: _ClassVar[int]
    PUBLICSPOTKLINE_FIELD_NUMBER: _ClassVar[int]
    PUBLICMINITICKER_FIELD_NUMBER: _ClassVar[int]
    PUBLICMINITICKERS_FIELD_NUMBER: _ClassVar[int]
    PUBLICBOOKTICKERBATCH_FIELD_NUMBER: _ClassVar[int]
    PUBLICINCREASEDEPTHSBATCH_FIELD_NUMBER: _ClassVar[int]
    PUBLICAGGREDEPTHS_FIELD_NUMBER: _ClassVar[int]
    PUBLICAGGREDEALS_FIELD_NUMBER: _ClassVar[int]
    PUBLICAGGREBOOKTICKER_FIELD_NUMBER: _ClassVar[int]
    channel: str
    symbol: str
    symbolId: str
    createTime: int
    sendTime: int
    publicDeals: _public_pb2.PublicDealsV3Api
    publicIncreaseDepths: _public_pb2.PublicIncreaseDepthsV3Api
    publicLimitDepths: _public_pb2.PublicLimitDepthsV3Api
    privateOrders: _private_pb2.PrivateOrdersV3Api
    publicBookTicker: _public_pb2.PublicBookTickerV3Api
    privateDeals: _private_pb2.PrivateDealsV3Api
    privateAccount: _private_pb2.PrivateAccountV3Api
    publicSpotKline: _public_pb2.PublicSpotKlineV3Api
    publicMiniTicker: _public_pb2.PublicMiniTickerV3Api
    publicMiniTickers: _public_pb2.PublicMiniTickersV3Api
    publicBookTickerBatch: _public_pb2.PublicBookTickerBatchV3Api
    publicIncreaseDepthsBatch: _public_pb2.PublicIncreaseDepthsBatchV3Api
    publicAggreDepths: _public_pb2.PublicAggreDepthsV3Api
    publicAggreDeals: _public_pb2.PublicAggreDealsV3Api
    publicAggreBookTicker: _public_pb2.PublicAggreBookTickerV3Api
    def __init__(self, channel: _Optional[str] = ..., symbol: _Optional[str] = ..., symbolId: _Optional[str] = ..., createTime: _Optional[int] = ..., sendTime: _Optional[int] = ..., publicDeals: _Optional[_Union[_public_pb2.PublicDealsV3Api, _Mapping]] = ..., publicIncreaseDepths: _Optional[_Union[_public_pb2.PublicIncreaseDepthsV3Api, _Mapping]] = ..., publicLimitDepths: _Optional[_Union[_public_pb2.PublicLimitDepthsV3Api, _Mapping]] = ..., privateOrders: _Optional[_Union[_private_pb2.PrivateOrdersV3Api, _Mapping]] = ..., publicBookTicker: _Optional[_Union[_public_pb2.PublicBookTickerV3Api, _Mapping]] = ..., privateDeals: _Optional[_Union[_private_pb2.PrivateDealsV3Api, _Mapping]] = ..., privateAccount: _Optional[_Union[_private_pb2.PrivateAccountV3Api, _Mapping]] = ..., publicSpotKline: _Optional[_Union[_public_pb2.PublicSpotKlineV3Api, _Mapping]] = ..., publicMiniTicker: _Optional[_Union[_public_pb2.PublicMiniTickerV3Api, _Mapping]] = ..., publicMiniTickers: _Optional[_Union[_public_pb2.PublicMiniTickersV3Api, _Mapping]] = ..., publicBookTickerBatch: _Optional[_Union[_public_pb2.PublicBookTickerBatchV3Api, _Mapping]] = ..., publicIncreaseDepthsBatch: _Optional[_Union[_public_pb2.PublicIncreaseDepthsBatchV3Api, _Mapping]] = ..., publicAggreDepths: _Optional[_Union[_public_pb2.PublicAggreDepthsV3Api, _Mapping]] = ..., publicAggreDeals: _Optional[_Union[_public_pb2.PublicAggreDealsV3Api, _Mapping]] = ..., publicAggreBookTicker: _Optional[_Union[_public_pb2.PublicAggreBookTickerV3Api, _Mapping]] = ...) -> None: ...
