"""Every log the runner writes, under random bars, gaps, venue faults, restarts and crashes,
keeps every invariant ``statebot check`` checks (the checker has no false alarms on real logs)."""

from __future__ import annotations

from hypothesis import settings
from hypothesis.stateful import invariant

from statebot.testing import check_log
from tests.app.test_runner_stateful import RunnerUnderFaults


class CheckedRunnerUnderFaults(RunnerUnderFaults):
    @invariant()
    def the_log_keeps_every_invariant(self) -> None:
        """The runner's own log, checked against its own schedule, passes every invariant."""
        r = self.runner
        if r.has_pending:
            return  # nothing logged yet
        r.events.sync()
        result = check_log(r.events.path, r.session.schedule)
        assert [v for v in result.verdicts if not v.passed] == []


CheckedRunnerUnderFaults.TestCase.settings = settings(max_examples=25, stateful_step_count=30, deadline=None)
test_runner_logs_keep_every_invariant = CheckedRunnerUnderFaults.TestCase
