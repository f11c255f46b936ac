"""Tests of the pure access engine (rules, planner, schedules)."""
