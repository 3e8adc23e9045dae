"""Routers, one per audience or concern, composed by `bot.dispatcher`."""
