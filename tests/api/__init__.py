"""Tests of the Spacebring and Tapkey clients against the sandbox."""
