"""The duty roster (排班): doctors' records and weekly duties, and the clinic sessions generated
from them."""
