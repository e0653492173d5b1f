"""Fixing violations: the new home of each name imported from a forbidden module, and the rewrite.

- ``homes``: where a name really lives (follows re-exports with the contract types' resolver).
- ``sites``: the import statements of one file that bind names from a given module.
- ``plan``: which import becomes which, or why it cannot (pure logic, unit-tested).
- ``rewrite``: one file's text rewritten with libcst (imported only when fixing).
- ``apply``: the safety rules, atomic writes and the unified diff.
- ``runner``: the steps in order for one run (check, plan, ask every contract, apply).
"""
