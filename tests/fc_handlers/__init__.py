"""Handlers for the FC runtime's tests, loaded by FC handler string
(`tests.fc_handlers.basic.echo`) from the project root, as FC loads `handlers.*`."""
