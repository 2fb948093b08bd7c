from forecast.runs.cli import main

main()
