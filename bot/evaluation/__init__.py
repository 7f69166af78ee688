"""Evaluation: question sets, grading, metrics, the runner, reports and the tutorial baseline."""
