package envset_test

import (
	"fmt"
	"time"

	"github.com/flotilla-io/flotilla/components/envset"
)

func ExampleWindow() {
	set, err := envset.Parse([]byte(`environments:
  - name: prod
    maxConcurrency: 1
    maintenanceWindow: {days: [sat, sun], start: "22:00", duration: 6h}
`), "environments.yaml")
	if err != nil {
		fmt.Println(err)
		return
	}
	prod, _ := set.Get("prod")
	w := prod.MaintenanceWindow
	friday := time.Date(2025, 3, 7, 12, 0, 0, 0, time.UTC)
	sunday := time.Date(2025, 3, 9, 1, 0, 0, 0, time.UTC)
	fmt.Println(w)
	fmt.Println("open on friday:", w.Open(friday), "- opens", w.Next(friday).Format("Mon 15:04"))
	fmt.Println("open early on sunday:", w.Open(sunday), "- closes", w.Closes(sunday).Format("Mon 15:04"))
	// Output:
	// Sat, Sun 22:00–04:00 UTC (next day)
	// open on friday: false - opens Sat 22:00
	// open early on sunday: true - closes Sun 04:00
}
