"""Local emulator of the Spacebring and Tapkey APIs (and Tapkey OAuth)."""
