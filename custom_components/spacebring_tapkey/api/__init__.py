"""HTTP clients for Spacebring and Tapkey; no Home Assistant imports."""
