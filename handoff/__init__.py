"""A person steps in: the queue of requests for a person, the clinic's hours, the console's link to Rasa.

Shared by the action server (a patient asks), the Rasa server (pause, resume, delivery,
time-outs) and the console (the Waiting page, take, reply, hand back).
"""
