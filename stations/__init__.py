"""Find trade-union rest stations (工会驿站) for outdoor workers in China."""
