"""The agent's datapath side: pipeline layout, flows as data, translation, switch messages."""
