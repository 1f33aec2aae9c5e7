"""The pure core: machines, positions, risk, learning and strategies.

Nothing under ``statebot.core`` opens a file or a socket, reads the wall clock or imports a
venue; time comes in as an argument. ``tests/core/test_import_graph.py`` keeps it so.
"""
