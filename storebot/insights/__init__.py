"""Insights: shopper events, recommendations and review understanding (no web or task framework here)."""
