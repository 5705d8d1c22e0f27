"""The office console: a web page where union staff keep their stations and answer reports.

Staff sign in with accounts made on the command line (``stations staff create``); each account
belongs to an office and carries that office's scope, so it sees and changes only the
office's stations.  Every change goes through the station store as the HTTP API's do: with the
version it was based on (a colleague's newer save is a conflict, never overwritten) and a
history entry that can be reverted.
"""
