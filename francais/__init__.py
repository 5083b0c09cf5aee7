"""French for people: the formats every layer may import (documents, mails, lists, rules' messages)."""
