"""Offline stand-ins for what hassfest and the HACS action check."""
