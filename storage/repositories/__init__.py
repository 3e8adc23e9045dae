"""One repository per aggregate; `storage.store.Store` bundles them for the handlers."""
