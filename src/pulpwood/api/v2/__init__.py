"""The Pulp 2 REST API (`/pulp/api/v2/`): its own front door over the same core as v3."""
