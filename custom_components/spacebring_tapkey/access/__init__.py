"""Pure access engine: Spacebring data to access windows to Tapkey changes."""
