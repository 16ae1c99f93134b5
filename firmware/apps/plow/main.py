# Runs at power-on of a snowplow logger. All logic lives in lib/.
import sys

# lib/ first: on the board's flash, data folders such as spool/ sit beside it and must never shadow
# a module ("" comes first in sys.path on an ESP32 and on the unix port alike).
if sys.path[0] != "lib":
    sys.path.insert(0, "lib")
import plow_logger

plow_logger.main()
