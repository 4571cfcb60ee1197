from devtools.turn import main

main()
