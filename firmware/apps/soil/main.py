# Runs at every wake of a soil/water node (after boot.py). All logic lives in lib/.
import soil_node

soil_node.main()
