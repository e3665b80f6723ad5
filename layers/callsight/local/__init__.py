"""Running Callsight on one machine: embedded AWS emulator, resource provisioning, queue router."""
