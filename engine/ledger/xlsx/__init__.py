"""The ledger as a spreadsheet: reading an uploaded .xlsx within bounds, planning and applying an
import (all or nothing), and exporting a round with its status, light and last signer."""
