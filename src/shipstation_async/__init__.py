from .limits import RateLimit
from .errors import *
