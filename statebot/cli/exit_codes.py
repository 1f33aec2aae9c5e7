"""The exit status of every ``statebot`` command: one table, used by all of them.

=====  ==============================================================================
code   meaning
=====  ==============================================================================
0      done: the command did what was asked (a sim ran to its end, a log verified)
1      done, but an expectation failed: a scenario's expectation, a log that does not
       verify or replay, a live run that ended not flat
2      bad input, nothing changed: a usage error, a bad config key, a bad CSV row, a
       strategy reference that is not a strategy; one line names the file, line or key
3      the environment failed: a file or folder could not be read or written (disk full,
       permission, read-only), the state folder is in use; one line names the file and
       the OS error. A run stopped this way flushed what it could and flattened first
4      the venue failed: the broker could not be reached or refused the session
130    interrupted by SIGINT (Ctrl-C): the log was flushed and a checkpoint written
143    ended by SIGTERM: the same clean shutdown as SIGINT
=====  ==============================================================================

No command lets a traceback of statebot's own reach the user; a user's strategy that
raises shows its own frames (the engine's are trimmed).
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_EXPECTATION_FAILED = 1
EXIT_USAGE = 2
EXIT_ENVIRONMENT = 3
EXIT_VENUE = 4
EXIT_SIGINT = 130
EXIT_SIGTERM = 143

__all__ = ["EXIT_ENVIRONMENT", "EXIT_EXPECTATION_FAILED", "EXIT_OK", "EXIT_SIGINT", "EXIT_SIGTERM", "EXIT_USAGE",
           "EXIT_VENUE"]
