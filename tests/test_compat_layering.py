"""Layering: the compatibility layer sits below the user-facing client. ``import cexfeed.compat``
never imports ``cexfeed.feed``; the names whose home is ``cexfeed.architecture`` are still served
by ``cexfeed.compat`` lazily, for older code."""

from __future__ import annotations

import subprocess
import sys


def test_importing_compat_does_not_import_feed():
    code = (
        "import sys, cexfeed.compat\n"
        "from cexfeed.compat import load_config, build_handler, StrategyProtocol, ParsedMessageAdapter\n"
        "assert 'cexfeed.feed' not in sys.modules, sorted(m for m in sys.modules if m.startswith('cexfeed'))\n"
        "from cexfeed.compat import open_feed, StrategyConnectionManager, architecture_of\n"
        "import cexfeed.architecture as arch\n"
        "assert open_feed is arch.open_feed and StrategyConnectionManager is arch.StrategyConnectionManager\n"
        "assert architecture_of is arch.architecture_of\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_no_compat_module_imports_feed():
    from pathlib import Path

    import cexfeed.compat

    for path in Path(cexfeed.compat.__file__).parent.glob("*.py"):
        text = path.read_text()
        for layer in ("feed", "architecture"):
            assert f"from ..{layer}" not in text and f"import cexfeed.{layer}" not in text, path.name
