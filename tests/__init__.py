"""Tests for the Spacebring Tapkey integration."""
