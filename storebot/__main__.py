from storebot.cli import main

main()
