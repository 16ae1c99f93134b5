# Runs at power-on of a snowplow logger. All logic lives in lib/.
import plow_logger

plow_logger.main()
