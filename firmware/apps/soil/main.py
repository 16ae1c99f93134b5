# Runs at every wake of a soil/water node (after boot.py). All logic lives in lib/.
import sys

# lib/ first: on the board's flash, data folders such as spool/ sit beside it and must never shadow
# a module ("" comes first in sys.path on an ESP32 and on the unix port alike).
if sys.path[0] != "lib":
    sys.path.insert(0, "lib")
import soil_node

soil_node.main()
