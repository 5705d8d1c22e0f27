"""Planning: study areas, demand, reach and coverage, numbers first; maps draw them."""
