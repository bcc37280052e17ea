"""File loaders converting each source's conventions into cogattn's xarray schemas."""
