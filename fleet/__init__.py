"""The hub side of the fleet (in progress, issue 12): the hosts allowed to push samples and their ingest keys."""
