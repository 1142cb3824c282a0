"""The authorization matrix: every route × every role (tables in tests/unit/api/authz_matrix.py)."""
