"""Runtime telemetry: the gate every outbound event passes through."""
