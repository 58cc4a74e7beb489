"""Pure resilience logic shared by every outbound call: circuit breakers."""
