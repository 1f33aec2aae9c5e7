"""On a real Dask cluster (a LocalCluster of two workers) a sweep gives the local results point for point."""

from __future__ import annotations

from pathlib import Path

import pytest

from statebot.app.sweep import load_sweep, run_sweep
from statebot.errors import ConfigError
from tests.app.sweep_helpers import write_sweep

distributed = pytest.importorskip("distributed")


def test_a_local_cluster_gives_the_local_results_point_for_point(tmp_path: Path) -> None:
    spec = load_sweep(write_sweep(tmp_path, fast="[5, 25]"))
    local = run_sweep(spec, tmp_path / "local")
    # two workers in this process (threads): a real scheduler, real tasks, no process start-up cost
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        remote = run_sweep(spec, tmp_path / "dask", scheduler=cluster.scheduler_address, chunk=1,
                           log_root=tmp_path / "workers")
    assert [r.outcome() for r in remote.results] == [r.outcome() for r in local.results]
    assert [r.status for r in remote.results] == ["ok", "ok", "failed", "ok"]
    assert all(Path(r.log).parent == tmp_path / "workers" for r in remote.results)
    assert (tmp_path / "dask" / "sweep.jsonl").read_text(encoding="utf-8").count("\n") == 5


def test_an_unreachable_scheduler_is_one_clear_error(tmp_path: Path) -> None:
    spec = load_sweep(write_sweep(tmp_path))
    with pytest.raises(ConfigError, match=r"cannot reach the Dask scheduler at tcp://127.0.0.1:9"):
        run_sweep(spec, tmp_path / "out", scheduler="tcp://127.0.0.1:9", connect_timeout_s=0.5)


def test_two_sweeps_in_a_row_on_one_client_both_run(tmp_path: Path) -> None:
    spec = load_sweep(write_sweep(tmp_path))
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        first = run_sweep(spec, tmp_path / "a", client=client)
        second = run_sweep(spec, tmp_path / "b", client=client)
    assert [r.status for r in second.results] == ["ok"] * 4, [r.error for r in second.results]
    assert [r.outcome() for r in second.results] == [r.outcome() for r in first.results]
