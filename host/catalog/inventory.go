package catalog

import (
	"context"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/orders"
)

// InventoryResult reports an applied upload and the re-evaluation of the
// held orders it touched.
type InventoryResult struct {
	Mode         host.InventoryMode `json:"mode"`
	Rows         int                `json:"rows"`
	Changed      int                `json:"changed"`
	Reevaluation orders.Summary     `json:"reevaluation"`
}

// SetInventory applies stock levels atomically (a bad row rejects them
// all) and then re-evaluates the held orders whose SKUs changed, when the
// settings ask for it. The stock is committed first: the re-evaluation is
// best effort on top, and its failure is logged, not returned.
func (s *Service) SetInventory(ctx context.Context, levels []host.StockLevel, mode host.InventoryMode) (InventoryResult, error) {
	if _, err := host.Authorize(ctx, host.RoleOperator); err != nil {
		return InventoryResult{}, err
	}
	res, err := s.store.SetInventory(ctx, levels, mode, s.now())
	if err != nil {
		return InventoryResult{}, err
	}
	out := InventoryResult{Mode: mode, Rows: res.Rows, Changed: res.Changed}
	if s.orders != nil {
		if out.Reevaluation, err = s.orders.InventoryChanged(ctx, res.SKUs); err != nil {
			s.log.Warn("re-evaluating held orders after an inventory upload", "error", err)
		}
	}
	return out, nil
}
