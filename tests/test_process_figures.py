"""The benchmarks' CPU accounting (``tools/process_figures.py``): a process tree's CPU seconds
count its children's, except children named on their own."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.support.processes import wait_until
from tools.process_figures import CpuWindow, tree_cpu_seconds

BURN = "import time\nwhile time.process_time() < 0.5: pass\ninput()"  # 0.5 s of CPU, then wait


def test_a_child_counts_for_its_parent_unless_named_itself() -> None:
    child = subprocess.Popen([sys.executable, "-c", BURN], stdin=subprocess.PIPE)
    try:
        window = CpuWindow({"child": child.pid})
        window.start()
        wait_until(lambda: tree_cpu_seconds({"child": child.pid})["child"] >= 0.45, 30, "the burn")
        window.stop()
        # apart first: whatever else in this process's tree runs meanwhile (a suite's servers)
        # then adds to ``whole`` only, and cannot eat into the child's share
        apart = tree_cpu_seconds({"parent": os.getpid(), "child": child.pid})
        whole = tree_cpu_seconds({"parent": os.getpid()})["parent"]
        assert apart["child"] >= 0.45
        assert whole - apart["parent"] >= 0.45  # the child's seconds moved out of the parent's
        assert window.spent["child"] > 0
    finally:
        child.kill()
        child.wait()


def test_a_process_that_is_gone_counts_nothing() -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    assert tree_cpu_seconds({"gone": gone.pid}) == {"gone": 0.0}
