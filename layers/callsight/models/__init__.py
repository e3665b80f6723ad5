"""Pydantic models shared by every layer: events in, domain objects, outcomes out."""
