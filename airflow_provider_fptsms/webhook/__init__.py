"""FPT CSKH delivery reports (DLR) pushed to us: the receiver app, its durable store, and its CLI.

FPT calls a webhook we provide (manual 4.1, "2nd way") with one final status per MessageId;
the store keeps them so a sensor can tell when every message of a send is final.
"""
