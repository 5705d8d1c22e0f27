DROP TABLE office_keys, history_stations, history, store_state, stations;
