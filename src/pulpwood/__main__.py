from pulpwood.cli import main

main()
