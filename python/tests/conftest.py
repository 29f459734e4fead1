"""The package's own tests run inside pytest sessions of their own, through pytester."""

pytest_plugins = ["pytester"]
