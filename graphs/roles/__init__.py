"""Role implementations behind the protocols in `graphs.roles.base`."""
