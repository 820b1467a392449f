package host

import (
	"fmt"
	"time"
)

// StockLevel is the quantity of one SKU available at one source.
type StockLevel struct {
	SourceID  string    `json:"source_id"`
	SKU       string    `json:"sku"`
	Available int64     `json:"available"`
	UpdatedAt time.Time `json:"updated_at"`
}

// CheckAvailable returns what is wrong with a stock quantity, or "".
func CheckAvailable(n int64) string {
	switch {
	case n < 0:
		return "must not be negative"
	case n > MaxAvailable:
		return fmt.Sprintf("must be at most %d", MaxAvailable)
	}
	return ""
}

// InventoryMode says how an inventory upload applies.
type InventoryMode string

const (
	// InventoryMerge sets the listed levels and leaves others unchanged.
	InventoryMerge InventoryMode = "merge"
	// InventoryReplace sets the listed levels and sets every other level of
	// the sources named in the upload to zero (a full stock count).
	InventoryReplace InventoryMode = "replace"
)

// InventoryResult reports what an inventory upload changed.
type InventoryResult struct {
	Rows    int `json:"rows"`
	Changed int `json:"changed"`
	// SKUs whose availability changed, for re-evaluation.
	SKUs []string `json:"-"`
}
