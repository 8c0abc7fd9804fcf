"""Run the Spark job: ``python -m bpdetect.integrations.spark`` or ``spark-submit <path of this file> ...``."""

# Absolute import: spark-submit runs this file as a script, outside its package.
from bpdetect.cli_spark import main

if __name__ == "__main__":
    main()
