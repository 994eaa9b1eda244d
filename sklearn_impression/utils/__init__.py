"""Internal helpers; ``_test_common`` holds the estimator-check settings for tests."""

__all__ = []
