"""Fast decision procedures (graph algorithms, Z3) behind the checks.

Every engine here must agree with the reference evaluator
(:mod:`checker.evaluator`) on generated topologies, and every counterexample it
finds is replayed through that evaluator before a check reports it.
"""
